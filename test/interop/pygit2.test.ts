/** The foreign-client scenarios (suite.ts) with pygit2, against level-git and git http-backend. */
import { CLIENTS } from './clients.js';
import { foreignClientSuite } from './suite.js';

foreignClientSuite(CLIENTS['pygit2']());
