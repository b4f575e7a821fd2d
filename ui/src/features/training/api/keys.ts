import { domainKeys } from "@/lib/queryKeys";

export const trainingKeys = domainKeys("training");
