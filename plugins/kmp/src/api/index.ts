export * from './KmpApi';
export * from './KmpClient';
export * from './broker';
