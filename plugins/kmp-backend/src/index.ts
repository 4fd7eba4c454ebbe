/**
 * The KMP backend plugin.
 *
 * @packageDocumentation
 */

export { kmpPlugin as default } from './plugin';
