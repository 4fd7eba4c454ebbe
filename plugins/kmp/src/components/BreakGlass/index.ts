export { BreakGlassCard } from './BreakGlassCard';
export { BreakGlassPage } from './BreakGlassPage';
