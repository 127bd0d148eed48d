// testTimeout is a global Jest option, so a project sets its own limit here.
jest.setTimeout(60_000);
