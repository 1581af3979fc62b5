/** The foreign-client scenarios (suite.ts) with go-git, against level-git and git http-backend. */
import { CLIENTS } from './clients.js';
import { foreignClientSuite } from './suite.js';

foreignClientSuite(CLIENTS['go-git']());
