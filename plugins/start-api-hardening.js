'use strict';

// Hardens the POST /start integration that serverless-step-functions generates:
// 1. JSON only. The plugin always adds a request template for application/x-www-form-urlencoded
//    too, which the request model does not cover; without it (PassthroughBehavior NEVER) API
//    Gateway answers any other content type with 415.
// 2. Least privilege. The API's role may start executions of this stack's state machine only
//    (the plugin grants states:StartExecution on "*").
class StartApiHardening {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  apply() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const machines = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::StepFunctions::StateMachine');
    for (const resource of Object.values(resources)) {
      const integration = resource.Type === 'AWS::ApiGateway::Method' && resource.Properties.Integration;
      if (integration && JSON.stringify(integration.Uri || '').includes(':states:action/')) {
        if (integration.RequestTemplates) delete integration.RequestTemplates['application/x-www-form-urlencoded'];
        integration.PassthroughBehavior = 'NEVER';
      }
    }
    const role = resources.ApigatewayToStepFunctionsRole;
    if (!role) return;
    for (const policy of role.Properties.Policies || []) {
      for (const statement of policy.PolicyDocument.Statement) {
        const actions = [].concat(statement.Action);
        if (actions.every((action) => action === 'states:StartExecution') && statement.Resource === '*') {
          statement.Resource = machines.map((id) => ({ Ref: id }));
        }
      }
    }
  }
}

module.exports = StartApiHardening;
