import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { userAgent, VERSION } from '../../core/version.js'
import { cliPath, repoRoot } from '../helpers/repo.js'

// One version string, package.json's: the CLI, the banner and every user agent carry it.

const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
const chart = readFileSync(join(repoRoot(), 'charts', 'daytwo', 'Chart.yaml'), 'utf8')

test('the version is package.json\'s, and the chart\'s appVersion is the same', () => {
  assert.equal(VERSION, pkg.version)
  assert.match(chart, new RegExp(`^appVersion: "${pkg.version.replace(/\./g, '\\.')}"$`, 'm'))
  assert.equal(userAgent('cli'), `daytwo/${pkg.version} (cli)`)
})

test('logs --version prints it', () => {
  assert.equal(execFileSync(process.execPath, [cliPath(), '--version'], { encoding: 'utf8' }), `daytwo ${pkg.version}\n`)
})
