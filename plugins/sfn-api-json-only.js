'use strict';

// serverless-step-functions always adds request templates for application/json AND
// application/x-www-form-urlencoded (PassthroughBehavior: NEVER). The request model/validator
// only applies to application/json, so a form-encoded body would bypass schema validation.
// This removes the form template from every Step Functions StartExecution integration, so any
// Content-Type other than application/json is answered 415 Unsupported Media Type by API Gateway.
class SfnApiJsonOnly {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.log = log || { verbose: () => {} };
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  apply() {
    const resources =
      this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const [id, res] of Object.entries(resources)) {
      const integ = res.Type === 'AWS::ApiGateway::Method' && res.Properties.Integration;
      if (!integ || !JSON.stringify(integ.Uri || '').includes(':states:action/')) continue;
      if (integ.RequestTemplates) {
        delete integ.RequestTemplates['application/x-www-form-urlencoded'];
        integ.PassthroughBehavior = 'NEVER';
        this.log.verbose(`[sfn-api-json-only] ${id}: JSON-only request templates`);
      }
    }
  }
}

module.exports = SfnApiJsonOnly;
