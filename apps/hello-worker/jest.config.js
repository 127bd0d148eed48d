module.exports = { ...require('../../jest.preset.js'), displayName: 'hello-worker', rootDir: __dirname };
