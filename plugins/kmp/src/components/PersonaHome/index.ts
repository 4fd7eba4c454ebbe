export { PersonaHome } from './PersonaHome';
