import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import { PAGE_HTML } from './page-html.js'

/** Chart.js's UMD build, from node_modules: the page works without internet. */
async function chartJs (): Promise<Buffer> {
  const main = createRequire(import.meta.url).resolve('chart.js') // …/chart.js/dist/chart.cjs
  return await readFile(join(dirname(main), 'chart.umd.min.js'))
}

/**
 * GET /usage — the usage page (public HTML: the data comes from /api/v1/usage with the
 * token the user types, so the page itself holds nothing secret).
 * GET /usage/chart.umd.min.js — the charting library it uses.
 */
export const usagePage: FastifyPluginAsync = async (app) => {
  let lib: Buffer | null = null
  app.get('/usage', async (_req, reply) => {
    void reply.header('content-type', 'text/html; charset=utf-8')
    void reply.header('content-security-policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
    return PAGE_HTML
  })
  app.get('/usage/chart.umd.min.js', async (_req, reply) => {
    lib ??= await chartJs()
    void reply.header('content-type', 'text/javascript; charset=utf-8')
    void reply.header('cache-control', 'public, max-age=86400')
    return lib
  })
}
