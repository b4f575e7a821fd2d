import { domainKeys } from "@/lib/queryKeys";

export const pipelineKeys = domainKeys("pipeline");
