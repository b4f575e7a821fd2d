import { domainKeys } from "@/lib/queryKeys";

export const registryKeys = domainKeys("registry");
