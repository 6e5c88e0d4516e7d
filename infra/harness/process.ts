// Child processes and ports: the same helpers the local InfluxDB launcher uses.
export { freePort, startProcess, tcpOpen, waitUntil, type ManagedProcess, type ProcessUser } from '../../services/shared/child-process.js';
