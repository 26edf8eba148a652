'use strict';

// Ships bytecode: after serverless-python-requirements has put the requirements into each zip
// (and `slim` has stripped their .pyc), plugins/bytecode.py compiles every module of every zip
// with the runtime's Python version, in unchecked-hash mode. Lambda's function directory is
// read-only: without bytecode in the zip, every cold start compiles every module it imports.
// `custom.bytecode.keepSources`: the directories whose .py stay beside their bytecode.
// The interpreter: deploy/lambda_python.py finds it ($LAMBDA_PYTHON, else pythonX.Y on PATH, else
// pyenv's, else the project's venv).
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

class Bytecode {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:finalize': () => this.compile(this.artifacts()),
      'after:deploy:function:packageFunction': () => this.compile(this.artifacts()),
    };
  }

  artifacts() {
    const service = this.serverless.service;
    return Object.values(service.functions)
      .map((fn) => (fn.package && fn.package.artifact) || '')
      .filter((artifact) => artifact.endsWith('.zip') && fs.existsSync(artifact));
  }

  version() {
    const runtime = this.serverless.service.provider.runtime || '';
    const match = /^python(\d+\.\d+)$/.exec(runtime);
    if (!match) throw new this.serverless.classes.Error(`bytecode: not a Python runtime: ${runtime}`);
    return match[1];
  }

  interpreter(version) {
    const locator = path.join(__dirname, '..', 'deploy', 'lambda_python.py');
    try {
      return execFileSync(process.env.PYTHON_BIN || 'python3', [locator, version, '--or-venv'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch (error) {
      // none found (the locator exits 1)
    }
    throw new this.serverless.classes.Error(
      `bytecode: Python ${version} (the Lambda runtime's) is needed to compile the zips' bytecode; ` +
      `install it (e.g. pyenv install ${version}) or set LAMBDA_PYTHON to its interpreter.`);
  }

  compile(artifacts) {
    if (!artifacts.length) return;
    const python = this.interpreter(this.version());
    const script = path.join(__dirname, 'bytecode.py');
    const custom = this.serverless.service.custom || {};
    const keep = ((custom.bytecode || {}).keepSources || []).flatMap((dir) => ['--keep-sources', dir]);
    const started = Date.now();
    execFileSync(python, [script, ...keep, ...artifacts], { stdio: ['ignore', 'ignore', 'inherit'] });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    this.serverless.cli.log(`Bytecode: ${artifacts.length} zip(s) compiled with ${python} in ${seconds} s`);
  }
}

module.exports = Bytecode;
