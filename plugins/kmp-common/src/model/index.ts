export * from './common';
export * from './cluster';
export * from './environmentGroup';
export * from './profile';
export * from './persona';
export * from './audit';
export * from './policy';
export * from './breakGlass';
