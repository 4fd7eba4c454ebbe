/**
 * Extension points and service contracts of the KMP backend.
 *
 * @packageDocumentation
 */

export * from './auditSinks';
export * from './auditService';
export * from './auditForwarding';
export * from './permissions';
export * from './gitops';
