export * from './config';
export * from './declaredObjects';
export * from './GitopsPublisher';
