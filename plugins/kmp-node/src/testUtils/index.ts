/**
 * Test utilities of the KMP node library: a real Git smart-HTTP server
 * (`git http-backend`) for tests of GitOps publishing, and helpers to
 * inspect what was pushed with the real git client.
 *
 * @packageDocumentation
 */

export {
  branchExists,
  cloneHead,
  commitCount,
  runGit,
  startGitServer,
  type ClonedCommit,
  type GitServer,
} from './gitServer';
