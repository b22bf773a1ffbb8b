// A long activity heartbeats every 5 s whatever its progress (activities/heartbeat.ts,
// HEARTBEAT_INTERVAL_MS). The server gives an attempt up as lost after this much silence, so
// a killed worker's batch is retried within about this long instead of minutes; four missed
// beats leave room for a stalled event loop or a slow network without false alarms. The SDK
// sends heartbeats at most every 80% of this, so the ticker's beats still reach the server.
export const HEARTBEAT_TIMEOUT = '20 seconds';
