import { createDevApp } from '@backstage/dev-utils';
import { kmpPlugin, KmpFleetPage } from '../src/plugin';

createDevApp()
  .registerPlugin(kmpPlugin)
  .addPage({ element: <KmpFleetPage />, title: 'Fleet', path: '/kmp' })
  .render();
