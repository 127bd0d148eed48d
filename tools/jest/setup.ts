import 'reflect-metadata';

// Tests provoke failures on purpose; a worker's warnings about them are noise in test output.
process.env['DURABULL_LOG_LEVEL'] ??= 'error';
