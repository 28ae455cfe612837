import protobuf from 'protobufjs'

// The tests' own copy of Loki's push schema (grafana/loki pkg/push/push.proto), so that a wrong
// field number in the receiver's (collector/receivers/loki/push-protobuf.ts) fails a test.
export const PushRequest = protobuf.parse(`
syntax = "proto3";
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message PushRequest { repeated StreamAdapter streams = 1; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message LabelPairAdapter { string name = 1; string value = 2; }
message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
`).root.lookupType('PushRequest')
