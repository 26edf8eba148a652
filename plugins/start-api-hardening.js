'use strict';

// Hardens what serverless-step-functions and the Framework generate around POST /start:
// 1. JSON only. The plugin always adds a request template for application/x-www-form-urlencoded
//    too, which the request model does not cover; without it (PassthroughBehavior NEVER) API
//    Gateway answers any other content type with 415.
// 2. Step Functions' own failures reach the caller as such. The plugin maps only "" (200) and
//    "400"; any other status from StartExecution fell through to the 200 response, without an
//    executionArn. A 4xx from Step Functions (throttled, a limit reached) becomes 502 and a 5xx
//    becomes 503, each with a JSON message and, as "reason", Step Functions' own error body.
// 3. Least privilege. The API's role may start executions of this stack's state machine only
//    (the plugin grants states:StartExecution on "*").
// 4. The stack's gateway responses are in the first API deployment's DependsOn, so the stage
//    that deployment creates has them from the start.
// 5. No shared IamRoleLambdaExecution: every function has a role of its own
//    (serverless-iam-roles-per-function), so the Framework's default role would be used by nothing.
// 6. No misleading warnings from serverless-api-gateway-throttling at package time: looking for an
//    HTTP API (API Gateway v2), which this service never has, it asks CloudFormation for the
//    deployed stack and says "Could not retrieve stack because: AWS provider credentials not found"
//    (or "Stack ... does not exist" on a first deploy), then "No HTTP API ... found". Its REST API
//    throttling, the part this service uses, is unchanged.
//    serverless-localstack, active only for the rehearsal stage, likewise says on every other
//    stage's run that it is skipping itself.
const SKIPPING_LOCALSTACK = /^Skipping serverless-localstack:/;
const THROTTLING_HTTP_API_PROBE = /^\[serverless-api-gateway-throttling\] (Could not retrieve stack because|No HTTP API)/;
const STEP_FUNCTIONS_ERRORS = [
  {
    StatusCode: 502,
    SelectionPattern: '4\\d{2}',
    ResponseTemplates: {
      'application/json': '{"message": "Step Functions refused to start the execution; nothing was started.", '
        + '"reason": $input.json(\'$\')}',
    },
  },
  {
    StatusCode: 503,
    SelectionPattern: '5\\d{2}',
    ResponseTemplates: {
      'application/json': '{"message": "Step Functions is unavailable: the execution may not have started. '
        + 'Try again in a moment.", "reason": $input.json(\'$\')}',
    },
  },
];

class StartApiHardening {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
    this.quietThrottlingHttpApiProbe(serverless.pluginManager.hooks['before:package:finalize'] || []);
    const { cli } = serverless;
    const log = cli.log;
    cli.log = function quiet(message, ...rest) {
      return SKIPPING_LOCALSTACK.test(message) ? undefined : log.call(this, message, ...rest);
    };
  }

  quietThrottlingHttpApiProbe(hooks) {
    const { cli } = this.serverless;
    for (const entry of hooks.filter((h) => h.pluginName === 'ApiGatewayThrottlingPlugin')) {
      const probe = entry.hook;
      entry.hook = async (...args) => {
        const log = cli.log;
        cli.log = (message, ...rest) => (THROTTLING_HTTP_API_PROBE.test(message) ? undefined : log.call(cli, message, ...rest));
        try {
          return await probe(...args);
        } finally {
          cli.log = log;
        }
      };
    }
  }

  apply() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const machines = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::StepFunctions::StateMachine');
    for (const resource of Object.values(resources)) {
      const integration = resource.Type === 'AWS::ApiGateway::Method' && resource.Properties.Integration;
      if (integration && JSON.stringify(integration.Uri || '').includes(':states:action/')) {
        if (integration.RequestTemplates) delete integration.RequestTemplates['application/x-www-form-urlencoded'];
        integration.PassthroughBehavior = 'NEVER';
        integration.IntegrationResponses = integration.IntegrationResponses
          .filter((response) => response.SelectionPattern !== '400')
          .concat(STEP_FUNCTIONS_ERRORS.map((response) => ({ ...response, ResponseParameters: {} })));
        const methodResponses = resource.Properties.MethodResponses;
        for (const { StatusCode } of STEP_FUNCTIONS_ERRORS) {
          if (!methodResponses.some((response) => response.StatusCode === StatusCode)) {
            methodResponses.push({ StatusCode, ResponseParameters: {}, ResponseModels: {} });
          }
        }
      }
    }
    this.dependOnGatewayResponses(resources);
    this.removeUnusedDefaultRole(resources);
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

  removeUnusedDefaultRole(resources) {
    const { IamRoleLambdaExecution: role, ...others } = resources;
    if (role && !JSON.stringify(others).includes('"IamRoleLambdaExecution"')) {
      delete resources.IamRoleLambdaExecution;
    }
  }
}

module.exports = StartApiHardening;
