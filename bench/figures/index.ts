// Every figure of issue 9, in run order (cheap and engine-independent first).
import type { FigureDef } from '../lib/context.js';
import { bootstrapFigure } from './bootstrap.js';
import { folderPageFigure } from './folder-page.js';
import { heapFigure } from './heap.js';
import { firstRowsFigure, pushFigure, remoteChangeFigure } from './live.js';
import { optimisticFigure } from './optimistic.js';
import { peersFigure } from './peers.js';
import { rateLimitedFigure } from './rate-limited.js';
import { sqliteFigure } from './sqlite.js';
import { changeCostFigure, idleFigure } from './traffic.js';

export const FIGURES: readonly FigureDef[] = [
  peersFigure,
  bootstrapFigure,
  folderPageFigure,
  sqliteFigure,
  firstRowsFigure,
  pushFigure,
  optimisticFigure,
  remoteChangeFigure,
  changeCostFigure,
  idleFigure,
  rateLimitedFigure,
  heapFigure,
];
