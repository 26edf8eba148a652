// One long-lived IAM evaluator for the local run: a JSON request per line on stdin, a JSON answer
// per line on stdout, in order. The evaluation is @cloud-copilot/iam-simulate's (pinned in
// package.json); this file only carries requests to it.
//   request: {"policies": [{"name", "policy"}], "principal", "action", "resource", "account", "context"}
//   answer:  {"decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"} or {"error": "..."}
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })

async function answer(line) {
  const request = JSON.parse(line)
  const response = await runSimulation(
    {
      identityPolicies: request.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.account },
        contextVariables: request.context || {},
      },
    },
    {},
  )
  if (response.resultType === 'error') {
    return { error: JSON.stringify(response.errors) }
  }
  return { decision: response.overallResult }
}

for await (const line of lines) {
  if (!line.trim()) continue
  let result
  try {
    result = await answer(line)
  } catch (error) {
    result = { error: String(error && error.message ? error.message : error) }
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}
