/** The foreign-client scenarios (suite.ts) with dulwich, against level-git and git http-backend. */
import { CLIENTS } from './clients.js';
import { foreignClientSuite } from './suite.js';

foreignClientSuite(CLIENTS['dulwich']());
