// Every figure of issue 9, in run order (cheap and engine-independent first).
import type { FigureDef } from '../lib/context.js';
import { bootstrapFigure } from './bootstrap.js';
import { peersFigure } from './peers.js';

export const FIGURES: readonly FigureDef[] = [peersFigure, bootstrapFigure];
