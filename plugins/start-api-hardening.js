'use strict';

// Hardens what serverless-step-functions and the Framework generate around POST /start:
// 1. JSON only. The plugin always adds a request template for application/x-www-form-urlencoded
//    too, which the request model does not cover; without it (PassthroughBehavior NEVER) API
//    Gateway answers any other content type with 415.
// 2. Step Functions' own failures reach the caller as such. The plugin maps only "" (200) and
//    "400"; any other status from StartExecution fell through to the 200 response, without an
//    executionArn. A 4xx from Step Functions (throttled, a limit reached) becomes 502 and a 5xx
//    becomes 503, each with the message of serverless.yml's custom.startApiErrors (the local
//    front answers with the same words) and, as "reason", Step Functions' own error body.
// 3. Least privilege. The API's role may start executions of the state machines with an http
//    event only (the plugin grants states:StartExecution on "*"; the approval machine has none).
// 4. The stack's gateway responses are in the first API deployment's DependsOn, so the stage
//    that deployment creates has them from the start.

class StartApiHardening {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  stepFunctionsErrors() {
    const words = (this.serverless.service.custom || {}).startApiErrors || {};
    const response = (StatusCode, SelectionPattern, message) => ({
      StatusCode,
      SelectionPattern,
      ResponseTemplates: { 'application/json': `{"message": ${JSON.stringify(message)}, "reason": $input.json('$')}` },
    });
    return [response(502, '4\\d{2}', words.refused), response(503, '5\\d{2}', words.unavailable)];
  }

  apply() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const declared = Object.values(((this.serverless.service.stepFunctions || {}).stateMachines) || {});
    const machines = declared
      .filter((machine) => (machine.events || []).some((event) => event.http))
      .map((machine) => machine.id)
      .filter((id) => resources[id] && resources[id].Type === 'AWS::StepFunctions::StateMachine');
    const errors = this.stepFunctionsErrors();
    for (const resource of Object.values(resources)) {
      const integration = resource.Type === 'AWS::ApiGateway::Method' && resource.Properties.Integration;
      if (integration && JSON.stringify(integration.Uri || '').includes(':states:action/')) {
        if (integration.RequestTemplates) delete integration.RequestTemplates['application/x-www-form-urlencoded'];
        integration.PassthroughBehavior = 'NEVER';
        integration.IntegrationResponses = integration.IntegrationResponses
          .filter((response) => response.SelectionPattern !== '400')
          .concat(errors.map((response) => ({ ...response, ResponseParameters: {} })));
        const methodResponses = resource.Properties.MethodResponses;
        for (const { StatusCode } of errors) {
          if (!methodResponses.some((response) => response.StatusCode === StatusCode)) {
            methodResponses.push({ StatusCode, ResponseParameters: {}, ResponseModels: {} });
          }
        }
      }
    }
    this.dependOnGatewayResponses(resources);
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

  dependOnGatewayResponses(resources) {
    // serverless.yml's own resources are merged into the template after this hook: read them there.
    const own = (this.serverless.service.resources || {}).Resources || {};
    const responses = Object.keys(own).filter((id) => own[id].Type === 'AWS::ApiGateway::GatewayResponse');
    for (const deployment of Object.values(resources)) {
      if (deployment.Type !== 'AWS::ApiGateway::Deployment') continue;
      const dependsOn = [].concat(deployment.DependsOn || []);
      deployment.DependsOn = dependsOn.concat(responses.filter((id) => !dependsOn.includes(id)));
    }
  }
}

module.exports = StartApiHardening;
