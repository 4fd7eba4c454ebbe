/**
 * Domain model, permissions and constants shared by the KMP plugins.
 *
 * @packageDocumentation
 */

export * from './model';
export * from './annotations';
export * from './permissions';
export * from './personas';
export * from './gitops';
