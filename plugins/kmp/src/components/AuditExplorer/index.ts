export { AuditExplorer } from './AuditExplorer';
