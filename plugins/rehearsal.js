'use strict';

// serverless-localstack points every AWS call of a deploy at an emulator. Only the deploy
// rehearsal (stage "rehearsal", tests/deploy/test_rehearsal.py) may load it: for any other stage
// this plugin is empty, and a real deploy never requires serverless-localstack at all.
const REHEARSAL_STAGE = 'rehearsal';

class Rehearsal {
  constructor(serverless, options, ...rest) {
    const stage = (options && options.stage) || (serverless.service.provider && serverless.service.provider.stage);
    this.active = stage === REHEARSAL_STAGE;
    if (!this.active) return;
    const LocalStack = require('serverless-localstack');
    const inner = new LocalStack(serverless, options, ...rest);
    this.hooks = inner.hooks;
    this.commands = inner.commands;
  }
}

module.exports = Rehearsal;
