import { KmpDomainContext } from '../types';

/**
 * `GET /health`: liveness and database reachability. Unauthenticated so that
 * load balancers can probe it; it reveals nothing but status.
 */
export function setupHealth(
  ctx: Pick<KmpDomainContext, 'router' | 'db' | 'logger'>,
) {
  const { router, db, logger } = ctx;
  router.get('/health', async (_req, res) => {
    try {
      await db.raw('select 1');
      res.json({ status: 'ok', database: 'ok' });
    } catch (error) {
      logger.warn(`KMP health check: database unavailable: ${error}`);
      res.status(503).json({ status: 'unavailable', database: 'unavailable' });
    }
  });
}
