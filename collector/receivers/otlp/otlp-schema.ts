import protobuf from 'protobufjs'
import { OTLP_LOGS_PROTO } from './otlp-proto.js'

// The protobuf types of OTLP/HTTP logs, parsed once from the vendored schema (otlp-proto.ts),
// and google.rpc.Status, the body of OTLP's error answers (googleapis google/rpc/status.proto,
// Apache-2.0; `details` is left out: daytwo sends none).

const root = new protobuf.Root()
for (const text of Object.values(OTLP_LOGS_PROTO)) protobuf.parse(text, root)
protobuf.parse('syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; }', root)

export const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest')
export const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse')
export const RpcStatus = root.lookupType('google.rpc.Status')
