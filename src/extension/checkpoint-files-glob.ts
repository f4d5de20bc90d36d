// The files whose creation or change can make or change a checkpoint: its configs, index and
// weights. File watchers of the explorer badges and the auto-audit watch the same set.
import { CHECKPOINT_FILE_EXTENSIONS } from '../engine/checkpoint/classify';

export const CHECKPOINT_FILES_GLOB = `**/{adapter_config.json,config.json,*.safetensors.index.json,${CHECKPOINT_FILE_EXTENSIONS.map((e) => `*${e}`).join(',')}}`;
