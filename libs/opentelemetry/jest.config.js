module.exports = { ...require('../../jest.preset.js'), displayName: 'opentelemetry', rootDir: __dirname };
