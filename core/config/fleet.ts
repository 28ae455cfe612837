import { z } from 'zod'

/** forwarder.metrics and collector.fleet — node/job metrics and their aggregation. */
export const nodeMetricsSchema = z.object({}).strict()
export const fleetSchema = z.object({}).strict()
