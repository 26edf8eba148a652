'use strict';

// No misleading lines at package time:
// - serverless-api-gateway-throttling, looking for an HTTP API (API Gateway v2), which this service
//   never has, asks CloudFormation for the deployed stack and says "Could not retrieve stack
//   because: AWS provider credentials not found" (or "Stack ... does not exist" on a first
//   deploy), then "No HTTP API ... found". Its REST API throttling, the part this service uses,
//   is unchanged. (Listed after that plugin in serverless.yml: its hooks exist when this loads.)
// - serverless-localstack, active only for the rehearsal stage, says on every other stage's run
//   that it is skipping itself.
const SKIPPING_LOCALSTACK = /^Skipping serverless-localstack:/;
const THROTTLING_HTTP_API_PROBE = /^\[serverless-api-gateway-throttling\] (Could not retrieve stack because|No HTTP API)/;

class QuietLogs {
  constructor(serverless) {
    this.serverless = serverless;
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
}

module.exports = QuietLogs;
