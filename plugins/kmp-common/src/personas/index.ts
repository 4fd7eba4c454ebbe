export * from './actions';
export * from './rules';
export * from './matrix';
export * from './access';
export * from './classify';
export * from './mapping';
export * from './visibility';
