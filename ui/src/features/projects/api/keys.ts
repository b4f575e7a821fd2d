import { domainKeys } from "@/lib/queryKeys";

export const projectKeys = domainKeys("projects");
