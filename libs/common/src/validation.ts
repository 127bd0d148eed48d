// Validation at the boundary where a value enters user code: activity and workflow arguments and
// results whose declared type is a class carrying class-validator decorators. Synchronous
// (validateSync) so that decoding during workflow replay never awaits.

import { plainToInstance } from 'class-transformer';
import { type ValidationError as ConstraintError, validateSync } from 'class-validator';
import { ApplicationError } from './errors';
import { DEFAULT_PAYLOAD_CONVERTER, type Payload, type PayloadConverter, isUserClass } from './payload';
import { describeType, quoteValue } from './quote-value';

/** `ApplicationError.type` of every validation failure. */
export const VALIDATION_ERROR_TYPE = 'ValidationError';

/** One violated property, as listed in a validation `ApplicationError`'s `details`. */
export interface ValidationViolation {
  /** 0-based index of the argument; absent when a single value (such as a result) was validated. */
  argument?: number;
  /** Dotted path of the property (`address.city`); `''` when the value itself is wrong. */
  property: string;
  /** class-validator constraint name → message, e.g. `{ isString: 'name must be a string' }`. */
  constraints: Record<string, string>;
}

interface Finding {
  violations: ValidationViolation[];
  messages: string[];
}

function flatten(errors: ConstraintError[], parentPath: string, into: Finding): void {
  for (const error of errors) {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    if (Object.keys(constraints).length > 0) {
      into.violations.push({ property: path, constraints: { ...constraints } });
      for (const message of Object.values(constraints)) {
        // class-validator names only the leaf property ("city must be a string"); say which one.
        if (path === error.property) into.messages.push(message);
        else if (message.startsWith(`${error.property} `)) into.messages.push(`${path}${message.slice(error.property.length)}`);
        else into.messages.push(`${path}: ${message}`);
      }
    }
    if (error.children?.length) flatten(error.children, path, into);
  }
}

function valueIsWrong(constraint: string, message: string): Finding {
  return { violations: [{ property: '', constraints: { [constraint]: message } }], messages: [message] };
}

/** What is wrong with `value` as a `type`; empty when nothing is or `type` is not checked. */
function findProblems(value: unknown, type: Function | undefined): Finding {
  if (type === Date) {
    return value instanceof Date && !Number.isNaN(value.getTime())
      ? { violations: [], messages: [] }
      : valueIsWrong('isDate', `expected a valid Date, got ${value instanceof Date ? 'Invalid Date' : quoteValue(value)}`);
  }
  if (!isUserClass(type)) return { violations: [], messages: [] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return valueIsWrong('isObject', `expected a ${type.name} object, got ${value === undefined || value === null ? String(value) : `${describeType(value)} ${quoteValue(value)}`}`);
  }
  // A caller validating before encoding may hold a plain object; check it as the class would be.
  const instance = value instanceof type ? value : plainToInstance(type, value);
  const finding: Finding = { violations: [], messages: [] };
  flatten(validateSync(instance, { forbidUnknownValues: false }), '', finding);
  return finding;
}

function section(label: string, type: Function | undefined, finding: Finding): string {
  return `Validation failed for ${label} (${type?.name ?? 'value'}): ${finding.messages.join('; ')}`;
}

function validationError(message: string, details: ValidationViolation[]): ApplicationError {
  return new ApplicationError(message, { type: VALIDATION_ERROR_TYPE, nonRetryable: true, details });
}

/**
 * Validates one decoded value against its declared type: a user class (checked with
 * class-validator's `validateSync`, nested errors flattened to paths like `address.city`) or
 * `Date`. Other types are not checked.
 *
 * @param label - names the value in the message, e.g. `'your_activity result'`.
 * @throws ApplicationError of type `ValidationError`, non-retryable, whose message lists every
 *   violated constraint and whose `details` are {@link ValidationViolation}s.
 */
export function validateValue(value: unknown, type: Function | undefined, label: string): void {
  const finding = findProblems(value, type);
  if (finding.messages.length > 0) throw validationError(section(label, type, finding), finding.violations);
}

/**
 * Decodes arguments with their declared types and validates every one before reporting, so the
 * error lists all violations of all arguments, e.g. `Validation failed for your_activity argument
 * 1 (YourParams): name must be longer than or equal to 1 characters; greeting must be a string`.
 *
 * @param context - what the arguments are for (an activity or workflow type name).
 * @throws ApplicationError of type `ValidationError` (non-retryable); TypeError for a malformed payload.
 */
export function decodeAndValidateSync(
  payloads: Payload[] | undefined,
  types: (Function | undefined)[] | undefined,
  context: string,
  converter: PayloadConverter = DEFAULT_PAYLOAD_CONVERTER,
): unknown[] {
  const values = converter.fromPayloads(payloads, types);
  const sections: string[] = [];
  const details: ValidationViolation[] = [];
  values.forEach((value, argument) => {
    const type = types?.[argument];
    const finding = findProblems(value, type);
    if (finding.messages.length === 0) return;
    sections.push(section(`${context} argument ${argument + 1}`, type, finding));
    details.push(...finding.violations.map((violation) => ({ argument, ...violation })));
  });
  if (sections.length > 0) throw validationError(sections.join('. '), details);
  return values;
}

/**
 * {@link decodeAndValidateSync} returning a promise (rejected instead of throwing). Prefer the sync
 * form inside workflow code.
 */
export async function decodeAndValidate(
  payloads: Payload[] | undefined,
  types: (Function | undefined)[] | undefined,
  context: string,
  converter: PayloadConverter = DEFAULT_PAYLOAD_CONVERTER,
): Promise<unknown[]> {
  return decodeAndValidateSync(payloads, types, context, converter);
}
