import type { FastifyPluginAsync } from 'fastify'
import type { LogStore } from '../../../store/log-store.js'
import { detectedFields, detectedFieldValues } from './detected-fields.js'
import { detectedLabels } from './detected-labels.js'
import { drilldownLimits } from './drilldown-limits.js'
import { patterns } from './patterns.js'
import type { DrilldownRequest } from './request.js'

/**
 * The endpoints Grafana's Logs Drilldown calls beyond the Loki data source's own (registered
 * under /loki/api/v1): detected_labels, detected_fields, detected_field/<name>/values, patterns
 * and drilldown-limits. They sample lines through the log query engine (never a whole range)
 * and see the tenant's org only, as every other route.
 */
export const drilldownApi: FastifyPluginAsync<{ store: LogStore }> = async (app, { store }) => {
  app.get('/detected_labels', async (req: DrilldownRequest) => await detectedLabels(store, req))
  app.get('/detected_fields', async (req: DrilldownRequest) => await detectedFields(store, req))
  app.get('/detected_field/:name/values', async (req: DrilldownRequest) => await detectedFieldValues(store, req))
  app.get('/patterns', async (req: DrilldownRequest) => await patterns(store, req))
  app.get('/drilldown-limits', async () => drilldownLimits())
}
