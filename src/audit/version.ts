// dit-auditor's version, from package.json at build time: it is part of every report's cache key.
import { version } from '../../package.json';

export const ENGINE_VERSION: string = version;
