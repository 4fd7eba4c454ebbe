import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// The CI machine runs these suites beside the backend and e2e suites on two
// cores: an update a test waits for (findBy…, waitFor) may take seconds
// there, not the library's default of one.
configure({ asyncUtilTimeout: 15_000 });
jest.setTimeout(60_000);
