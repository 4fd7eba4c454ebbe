export * from './KmpApi';
export * from './KmpClient';
