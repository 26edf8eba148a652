'use strict';

// ${approvalPolicy:<key>}: the stage's approval policy, checked and ready to deploy.
// One definition of the policy serves the functions, `make local` and this plugin: it runs
// deploy/approval_policy.py (the plan of functions/common/approval_policy.py) on the stage's env.json block. A configuration that
// cannot work stops `serverless package` / `deploy` here, with a message naming the key.
//
// The check runs once, when the plugin loads (the Framework has read env.json by then): a refusal
// is one error, said once. Left to the variable source, it would be said again, wrapped in
// "Cannot resolve variable at …", for every one of the ${approvalPolicy:…} places in serverless.yml.
const { spawnSync } = require('child_process');
const path = require('path');

class ApprovalPolicy {
  constructor(serverless) {
    this.serverless = serverless;
    this.plans = new Map();
    const input = serverless.processedInput || {};
    const configuration = serverless.configurationInput || {};
    const stage = (configuration.custom || {}).stageConfig;
    if (!input.isHelpRequest && isResolved(stage)) {
      this.plan(stage, stageName(input.options, configuration));
    }
    this.configurationVariablesSources = {
      approvalPolicy: {
        resolve: async ({ address, options, resolveConfigurationProperty }) => {
          const stage = await resolveConfigurationProperty(['custom', 'stageConfig']);
          const plan = this.plan(stage, options.stage || 'dev');
          if (!(address in plan)) {
            throw new serverless.classes.Error(`\${approvalPolicy:${address}}: no such key (${Object.keys(plan).join(', ')})`);
          }
          return { value: plan[address] };
        },
      },
    };
  }

  plan(stage, stageName) {
    const input = JSON.stringify(stage == null ? {} : stage);
    if (!this.plans.has(input)) {
      const python = process.env.PYTHON_BIN || 'python3';
      // The local stage is `make local`'s: there, as in local mode, environment variables override env.json.
      const args = ['-m', 'deploy.approval_policy', ...(stageName === 'local' ? ['--environment-overrides'] : [])];
      // From this repository (deploy/ beside plugins/), whichever directory holds the service.
      const run = spawnSync(python, args, { cwd: path.join(__dirname, '..'), input, encoding: 'utf8' });
      if (run.error) {
        throw new this.serverless.classes.Error(`Could not run ${python} to check the approval policy: ${run.error.message}`);
      }
      if (run.status !== 0) {
        throw new this.serverless.classes.Error(`env.json, stage "${stageName}": ${run.stderr.trim()}`);
      }
      this.plans.set(input, JSON.parse(run.stdout));
    }
    return this.plans.get(input);
  }
}

// The stage block as env.json gives it, with no variable left to resolve.
function isResolved(stage) {
  return stage != null && typeof stage === 'object' && !Array.isArray(stage) && !JSON.stringify(stage).includes('${');
}

function stageName(options, configuration) {
  return (options && options.stage) || (configuration.provider || {}).stage || 'dev';
}

module.exports = ApprovalPolicy;
