// PEFT LoRA adapter folders (`adapter_config.json` + `adapter_model.safetensors`) to LoraFactors.
// Anything the adapter does beyond plain LoRA on the seven linear modules is refused, never dropped.
// The parts live in ./peft/; this is what the rest of the project imports.

export { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './peft/files';
export { loadPeftAdapter } from './peft/load';
