// An ES module in a .js file ("type": "module" in package.json) with top-level await: require() refuses it
// (Node 18: ERR_REQUIRE_ESM; Node 20: ERR_REQUIRE_ASYNC_MODULE), so the wrapper must import() it.
import { passed } from './records.js'

const loadedAt = await Promise.resolve(Date.now())

export const handler = async (event) => ({ ...passed(event), module: 'esm-package', loadedAt })
