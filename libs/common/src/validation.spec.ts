import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { ApplicationError } from './errors';
import { DEFAULT_PAYLOAD_CONVERTER } from './payload';
import { decodeAndValidate, decodeAndValidateSync, validateValue } from './validation';

class YourParams {
  @IsString() greeting!: string;
  @IsString() @Length(1, 100) name!: string;
  constructor(greeting: string, name: string) {
    this.greeting = greeting;
    this.name = name;
  }
}

class Address {
  @IsString() city!: string;
  @IsInt() @Min(1) zip!: number;
}

class Customer {
  @IsString() name!: string;
  @ValidateNested() @Type(() => Address) address!: Address;
  @ValidateNested({ each: true }) @Type(() => Address) previous!: Address[];
}

const encode = (...values: unknown[]) => DEFAULT_PAYLOAD_CONVERTER.toPayloads(values);

function thrownBy(fn: () => unknown): ApplicationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationError);
    return err as ApplicationError;
  }
  throw new Error('expected a validation error');
}

describe('decodeAndValidateSync', () => {
  it('returns restored instances when every argument is valid', () => {
    const [params, count] = decodeAndValidateSync(encode(new YourParams('Hello', 'World'), 3), [YourParams, Number], 'your_activity');
    expect(params).toBeInstanceOf(YourParams);
    expect(params).toEqual(new YourParams('Hello', 'World'));
    expect(count).toBe(3);
  });

  it('lists every violated constraint as a non-retryable ValidationError', () => {
    const err = thrownBy(() => decodeAndValidateSync(encode({ greeting: 5, name: '' }), [YourParams], 'your_activity'));
    expect(err.message).toBe(
      'Validation failed for your_activity argument 1 (YourParams): greeting must be a string; name must be longer than or equal to 1 characters',
    );
    expect(err.type).toBe('ValidationError');
    expect(err.nonRetryable).toBe(true);
    expect(err.details).toEqual([
      { argument: 0, property: 'greeting', constraints: { isString: 'greeting must be a string' } },
      { argument: 0, property: 'name', constraints: { isLength: 'name must be longer than or equal to 1 characters' } },
    ]);
  });

  it('reports all arguments at once, with nested properties as paths', () => {
    const err = thrownBy(() =>
      decodeAndValidateSync(
        encode(
          { greeting: 'Hi' },
          'fine',
          { name: 7, address: { city: 3, zip: 0.5 }, previous: [{ city: 'Oslo', zip: 0 }] },
        ),
        [YourParams, String, Customer],
        'greet',
      ),
    );
    expect(err.message).toBe(
      'Validation failed for greet argument 1 (YourParams): name must be longer than or equal to 1 characters; name must be a string. ' +
        'Validation failed for greet argument 3 (Customer): name must be a string; address.city must be a string; ' +
        'address.zip must not be less than 1; address.zip must be an integer number; previous.0.zip must not be less than 1',
    );
    expect(err.details).toEqual([
      {
        argument: 0,
        property: 'name',
        constraints: {
          isLength: 'name must be longer than or equal to 1 characters',
          isString: 'name must be a string',
        },
      },
      { argument: 2, property: 'name', constraints: { isString: 'name must be a string' } },
      { argument: 2, property: 'address.city', constraints: { isString: 'city must be a string' } },
      {
        argument: 2,
        property: 'address.zip',
        constraints: { min: 'zip must not be less than 1', isInt: 'zip must be an integer number' },
      },
      { argument: 2, property: 'previous.0.zip', constraints: { min: 'zip must not be less than 1' } },
    ]);
  });

  it('rejects a missing or non-object value where a class is expected, naming the class', () => {
    const err = thrownBy(() => decodeAndValidateSync(encode(null, 'Ada', [1], undefined), [YourParams, YourParams, YourParams, YourParams], 'a'));
    expect(err.message).toBe(
      'Validation failed for a argument 1 (YourParams): expected a YourParams object, got null. ' +
        'Validation failed for a argument 2 (YourParams): expected a YourParams object, got string "Ada". ' +
        'Validation failed for a argument 3 (YourParams): expected a YourParams object, got array [1]. ' +
        'Validation failed for a argument 4 (YourParams): expected a YourParams object, got undefined',
    );
    expect(err.details[0]).toEqual({ argument: 0, property: '', constraints: { isObject: 'expected a YourParams object, got null' } });
  });

  it('checks Dates and leaves untyped arguments alone', () => {
    const [when, anything] = decodeAndValidateSync(encode('2024-01-02T03:04:05.000Z', { free: 'form' }), [Date], 'schedule');
    expect(when).toEqual(new Date('2024-01-02T03:04:05.000Z'));
    expect(anything).toEqual({ free: 'form' });
    expect(() => decodeAndValidateSync(encode('not a date'), [Date], 'schedule')).toThrow(
      'Validation failed for schedule argument 1 (Date): expected a valid Date, got Invalid Date',
    );
  });
});

describe('decodeAndValidate', () => {
  it('resolves with the values, or rejects with the same error', async () => {
    await expect(decodeAndValidate(encode(new YourParams('a', 'b')), [YourParams], 'x')).resolves.toEqual([new YourParams('a', 'b')]);
    await expect(decodeAndValidate(encode({ greeting: 'a', name: '' }), [YourParams], 'x')).rejects.toThrow(
      'Validation failed for x argument 1 (YourParams): name must be longer than or equal to 1 characters',
    );
  });
});

describe('validateValue', () => {
  it('validates a single value, such as a result, under the given label', () => {
    expect(() => validateValue(new YourParams('a', 'b'), YourParams, 'your_activity result')).not.toThrow();
    expect(() => validateValue('anything', String, 'r')).not.toThrow();
    const err = thrownBy(() => validateValue(new YourParams('a', ''), YourParams, 'your_activity result'));
    expect(err.message).toBe('Validation failed for your_activity result (YourParams): name must be longer than or equal to 1 characters');
    expect(err.details).toEqual([{ property: 'name', constraints: { isLength: 'name must be longer than or equal to 1 characters' } }]);
  });

  it('validates a plain object as the class would be', () => {
    expect(() => validateValue({ greeting: 1, name: 'x' }, YourParams, 'result')).toThrow(
      'Validation failed for result (YourParams): greeting must be a string',
    );
  });
});
