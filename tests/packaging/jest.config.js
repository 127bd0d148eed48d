// Packs the packages and installs them from the tarballs in a fresh project: a minute or two.
module.exports = { ...require('../../jest.preset.js'), displayName: 'packaging', rootDir: __dirname };
