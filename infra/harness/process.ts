// Child processes and ports: the same helpers the local InfluxDB launcher uses.
export { freePort, startProcess, tcpOpen, waitUntil, type ManagedProcess } from '../../services/shared/child-process.js';
