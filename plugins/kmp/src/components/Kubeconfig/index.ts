export { KubeconfigCard } from './KubeconfigCard';
