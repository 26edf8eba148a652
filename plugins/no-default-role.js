'use strict';

// Least privilege: no shared IamRoleLambdaExecution. Every function has a role of its own
// (serverless-iam-roles-per-function), so the Framework's default role would be used by nothing;
// it is removed from the template unless something still refers to it.

class NoDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  apply() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const { IamRoleLambdaExecution: role, ...others } = resources;
    if (role && !JSON.stringify(others).includes('"IamRoleLambdaExecution"')) {
      delete resources.IamRoleLambdaExecution;
    }
  }
}

module.exports = NoDefaultRole;
