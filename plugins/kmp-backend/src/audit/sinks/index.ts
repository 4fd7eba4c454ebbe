import { KmpAuditSinkFactory } from '@kmp/plugin-kmp-node';
import { fileSinkFactory } from './fileSink';
import { httpSinkFactory } from './httpSink';
import { syslogSinkFactory } from './syslogSink';

/** The sink kinds the KMP backend ships with. */
export const builtInSinkFactories: KmpAuditSinkFactory[] = [
  httpSinkFactory,
  syslogSinkFactory,
  fileSinkFactory,
];
